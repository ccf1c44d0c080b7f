//! The real-time Flow Socket session (stub).
