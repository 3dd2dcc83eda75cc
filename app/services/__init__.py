"""Service functions: the application's logic layer. Views call these; these own transactions."""
