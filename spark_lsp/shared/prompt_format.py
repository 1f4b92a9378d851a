"""Markers shared by the prompts we build and the bundled model server that reads them.

The real model reads these as plain text; the bundled local engine relies on them to find the
cursor and the task, so both sides must take them from this one module.
"""

#: Stands where the completion is to be inserted, inside the current file's text.
CURSOR = "<|cursor|>"
#: First line of the instructions of an inline-completion request.
TASK_COMPLETE = "spark-task: complete"
#: First line of the instructions of an edit / quick-fix request.
TASK_EDIT = "spark-task: edit"
#: First line of the instructions of a next-edit prediction.
TASK_NEXT_EDIT = "spark-task: next-edit"
