"""Platform payloads into replyguard threads: X (v2 and v1.1), Bluesky and Mastodon."""
