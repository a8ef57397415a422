"""The frame pipeline shared by the local renderer and the composer."""
