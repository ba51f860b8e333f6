"""The message outbox: one Notification row per message, sent by a task through the channel's backend."""
