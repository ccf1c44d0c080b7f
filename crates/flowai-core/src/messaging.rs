//! The Messaging REST API client: text, event, location and media messages, and webhook subscriptions (stub).
