"""The backend: plain Python, no HTTP. Methods are named after Sohar's operations."""
