//! Receiving webhook calls: verification, parsing, and an embedded receiver server (stub).
