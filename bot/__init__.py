"""The Palabre application: assembly, command line, middlewares, FSM storage, sender."""
