"""lianfang (联防): command and dispatch for a city's joint prevention and control headquarters."""

__version__ = "0.1.0"
