//! Shared HTTP plumbing: one reqwest client per object, bearer auth, error bodies mapped to Error (stub).
