// GlimpseIdentity owns the Identity API v3 subset under /identity: users, projects, roles, tokens, catalog.
