"""Use cases: one function per thing a user does, called by web, flows and CLI alike."""
