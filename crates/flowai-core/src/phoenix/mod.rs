//! A Phoenix channels client, protocol 2.0.0, usable for any Phoenix server (stub).
