"""Adaptation strategies, one module each, all behind `strategies.protocol.Strategy`."""
