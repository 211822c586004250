"""The hall's screens. Views are thin: check the role, call one service or selector, render a template."""
