"""The HTTP side: health, webhook, Open311 GeoReport v2."""
