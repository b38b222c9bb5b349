"""Thin HTTP adapters: parse, validate, call the backend, serialize."""
