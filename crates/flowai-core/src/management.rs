//! The Management API client: flows, intents, entity types, projects, members (stub).
