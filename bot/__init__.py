"""The Palabre application: settings, assembly, command line, middlewares, FSM storage, sender."""
