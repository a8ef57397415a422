"""skureel: product catalogs and a brand kit in, publish-ready social videos out."""

__version__ = "0.1.0"
