"""The zoo: .arch files shipped as package data, loadable by name."""
