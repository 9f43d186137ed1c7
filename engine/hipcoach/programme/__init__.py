"""A six-week programme that adapts: the plan laid on a calendar, moved along its ladders by
the progress rules at every check-in, and kept in a journal."""
