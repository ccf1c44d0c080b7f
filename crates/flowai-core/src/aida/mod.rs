//! The AIDA chatbot client on top of Phoenix channels (stub).
