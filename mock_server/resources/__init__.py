"""Partner contracts served statefully: the resources a contract shows, kept per sandbox."""
