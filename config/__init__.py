"""Settings, at the bottom of the layers: every package may read them, they import none."""
