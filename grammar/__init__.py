"""The grammar of the .arch language, shipped as package data."""
