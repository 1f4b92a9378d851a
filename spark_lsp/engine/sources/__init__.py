"""Project context sources: the workspace index and what each source renders from it."""
