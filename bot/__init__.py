"""factbot core: fact packs, matching, replies and community features.

The core is platform-neutral: it never imports ``discord`` or ``telegram``.
"""

__version__ = "0.1.0"
