"""advisor: measure and decide how to adapt a language model to your domain."""

__version__ = "0.1.0"
