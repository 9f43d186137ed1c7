"""``hipcoach serve``: the questionnaire, the plan and the programme in a web browser.

:mod:`.questions` turns the questionnaire into form pages and posted fields back into answers,
:mod:`.engine` runs the planner in a process of its own one request at a time, :mod:`.why` puts
an exercise's reasons in words, :mod:`.guard`
adds the security headers and limits, :mod:`.app` holds the pages and :mod:`.server` runs them
under uvicorn. Needs the ``web`` extra (Starlette, uvicorn, python-multipart).
"""
