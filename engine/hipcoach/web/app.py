"""The web pages of ``hipcoach serve``: the questionnaire, the plan, its downloads, a check-in.

The server keeps nothing: every page carries the answers so far in its form, every download is
made again from what the browser posts, and a check-in takes the journal file the runner
uploads and gives the updated one back. Every POST needs the CSRF token of the page it came
from (a random value in a strict same-site cookie and in the form), and a request from another
origin is refused. Errors are pages (or JSON, for a client that asks for it) that say what was
wrong, with 400, 403, 413 or 503; never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import os
import secrets
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..present.explain import explain_item
from ..present.handout import environment
from ..present.render import SHOWN_DROPS, to_json
from ..present.words import NOT_A_DIAGNOSIS, amount, lower_first, referral_words, serves_text, worded
from ..programme.layout import WEEKDAYS
from ..programme.programme import MAX_WEEKS, Checkin
from .engine import EngineLost, EngineProcess, Refused
from .guard import MAX_BODY, Guard
from .questions import FormError, Steps, parse
from .why import html, why

#: The cookie and the form field that carry the CSRF token.
CSRF_COOKIE = "hipcoach_csrf"
CSRF_FIELD = "_csrf"
#: The programme's fields on the plan page (not answers, so not named by an answer id).
PROGRAMME_FIELDS = ("_start", "_run_days", "_weeks")
#: The check-in's fields, named as ``hipcoach programme checkin`` names its options.
CHECKIN_FIELDS = ("pain_during", "next_morning", "sessions", "red_flags", "date")
JOURNAL_FIELD = "journal"
#: The page's field for each value the programme names in its errors (its own words).
PAGE_FIELDS = {"start": "_start", "weeks": "_weeks", "run_days": "_run_days", "date": "date",
               "pain_during": "pain_during", "next_morning": "next_morning",
               "sessions": "sessions", "red_flags": "red_flags"}
#: At most this many fields in one form (the questionnaire's checkboxes and hidden fields fit
#: many times over).
MAX_FIELDS = 400
#: Environment variables through which `hipcoach serve` hands the folders to each worker.
ENV_KB, ENV_RULES = "HIPCOACH_SERVE_KB", "HIPCOACH_SERVE_RULES"
#: What each download is: (file name, media type).
DOWNLOADS = {"handout": ("hip-plan.html", "text/html; charset=utf-8"),
             "plan": ("hip-plan.json", "application/json"),
             "answers": ("hip-answers.json", "application/json"),
             "calendar": ("hip-programme.ics", "text/calendar; charset=utf-8"),
             "journal": ("hip-journal.json", "application/json")}
JOURNAL_DOWNLOADS = {"journal": "json", "calendar": "ics", "handout": "html"}


class Problem(Exception):
    """A request the server refuses: the status, and what was wrong in words."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


class Site:
    """The pages, on one engine process."""

    def __init__(self, engine: EngineProcess) -> None:
        self.engine = engine
        self.steps = Steps(engine.about.questions, engine.about.triage,
                           engine.about.decisive)

    # ----------------------------------------------------------------------- plumbing

    async def evaluate(self, kind: str, *args: Any) -> Any:
        """One request to the engine, on its single sending thread; its refusal is a 400."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.engine.executor,
                                              functools.partial(self.engine.call, kind, *args))
        except Refused as exc:
            raise Problem(400, *_in_field_names(str(exc), exc.field)) from None
        except EngineLost:
            raise Problem(503, "The planner stopped while working on this; it is being "
                               "restarted. Please send the form again in a moment.") from None

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> Response:
        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        about = self.engine.about
        html = environment("hipcoach.web").get_template(template).render(
            nonce=request.state.nonce, csrf=token, csrf_field=CSRF_FIELD,
            not_a_diagnosis=NOT_A_DIAGNOSIS, made_by=about.made_by, **context)
        response = HTMLResponse(html, status_code=status)
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    async def form(self, request: Request) -> FormData:
        """The posted form, within the limits, once its CSRF token and origin are checked."""
        # A browser under "Referrer-Policy: no-referrer" sends "Origin: null" from our own
        # pages, so only a named other origin is refused here; the token decides the rest.
        origin = request.headers.get("origin")
        elsewhere = origin not in (None, "null") and origin.split("://", 1)[-1] != \
            request.headers.get("host")
        if elsewhere or request.headers.get("sec-fetch-site") == "cross-site":
            raise Problem(403, "This form was sent from another site; open hipcoach's own page "
                               "and send it from there.")
        try:
            form = await request.form(max_files=1, max_fields=MAX_FIELDS, max_part_size=MAX_BODY)
        except MultiPartException as exc:
            raise Problem(400, f"The form could not be read: {exc.message}") from None
        except HTTPException as exc:  # a form the parser refuses
            raise Problem(400, f"The form could not be read: {exc.detail}") from None
        cookie = request.cookies.get(CSRF_COOKIE, "")
        token = form.get(CSRF_FIELD)
        if not cookie or not isinstance(token, str) or \
                not secrets.compare_digest(cookie.encode(), token.encode()):
            raise Problem(403, "The form's security token is missing or out of date (it comes "
                               "with each page): reload the page and send the form again.",
                          CSRF_FIELD)
        return form

    @staticmethod
    def text_fields(form: FormData, files: tuple[str, ...] = ()) -> list[tuple[str, str]]:
        """The form's text fields; a file is refused unless its field is one of ``files``."""
        fields = []
        for name, value in form.multi_items():
            if isinstance(value, str):
                fields.append((name, value))
            elif name not in files:
                raise Problem(400, f"{name[:40]}: a file was sent where a value belongs", name[:40])
        return fields

    def answers(self, form: FormData,
                controls: tuple[str, ...] = ()) -> tuple[dict[str, Any], dict[str, list[str]]]:
        try:
            return parse(self.text_fields(form), self.engine.about.questions,
                         (CSRF_FIELD, *controls))
        except FormError as exc:
            raise Problem(400, str(exc), exc.field) from None

    # -------------------------------------------------------------------- the questions

    async def home(self, request: Request) -> Response:
        return self.questions(request, {}, 0)

    def questions(self, request: Request, answers: Mapping[str, Any], number: int) -> Response:
        now, later = self.steps.page(number, answers)
        return self.page(request, "questions.html.j2", title="Your hips: a few questions",
                         number=number + 1, fields=now, later=later,
                         carried=self.steps.carried(answers))

    async def answer(self, request: Request) -> Response:
        """A step's answers: the referral at once if triage says so, else the next step, or the
        plan when every question that applies is answered."""
        answers, _ = self.answers(await self.form(request))
        plan = None
        if any(key in self.engine.about.triage for key in answers):
            plan = await self.evaluate("plan", answers)
            if plan["status"] == "refer":
                return self.plan_page(request, plan, answers)
        number = self.steps.next(answers)
        if number is not None:
            return self.questions(request, answers, number)
        return self.plan_page(request, plan or await self.evaluate("plan", answers), answers)

    # --------------------------------------------------------------------------- the plan

    def plan_page(self, request: Request, plan: Mapping[str, Any],
                  answers: Mapping[str, Any]) -> Response:
        carried = self.steps.carried(answers)
        if plan["status"] == "refer":
            return self.page(request, "referral.html.j2", title=referral_words(plan).heading,
                             referral=referral_words(plan), urgency=plan["urgency"],
                             carried=carried)
        causes = {c["id"]: c["name"] for c in plan["causes"]}
        items = {item["exercise"]: item for item in plan["items"]}
        blocks = [{"label": block["label"], "frequency": block["frequency"],
                   "minutes": block["minutes"],
                   "exercises": [{"id": items[e]["exercise"], "name": items[e]["name"],
                                  "amount": amount(items[e]), "steps": items[e]["steps"],
                                  "cautions": [lower_first(c) for c in items[e]["cautions"]],
                                  "cue": items[e]["cue"], "slot": block["label"],
                                  "serves": serves_text(items[e], causes),
                                  "why": html(why(items[e], plan, self.engine.about.questions)),
                                  "rules": explain_item(items[e], plan)}
                                 for e in block["exercises"]]}
                  for block in plan["schedule"]]
        state = "balanced" if plan["balanced"] else "not fully balanced"
        shown = [d for d in plan["dropped"] if d["kind"] in SHOWN_DROPS]
        return self.page(
            request, "plan.html.j2",
            title=f"Your hip plan: {plan['total_minutes']} of your {plan['budget_minutes']} "
                  f"minutes a day, {state}",
            points_to=worded(plan["symptoms"]), behind=worded(plan["causes"]),
            advice=[a["text"] for a in plan["advice"]], blocks=blocks, notes=plan["notes"],
            capped=plan["capped"], max_items=plan["max_items"],
            left_out=[f"{d['name']}: {d['reason']}" for d in shown],
            others=len(plan["dropped"]) - len(shown), carried=carried,
            today=dt.date.today().isoformat(), weekdays=WEEKDAYS, run_days=("mon", "wed", "sat"),
            weeks=6, max_weeks=MAX_WEEKS)

    async def download(self, request: Request) -> Response:
        """A file made from the posted answers: the handout, the plan or answers as JSON, or a
        new programme's calendar or journal."""
        kind = request.path_params["kind"]
        if kind not in DOWNLOADS:
            raise Problem(404, f"There is no download called {kind[:40]!r}.")
        answers, controls = self.answers(await self.form(request), PROGRAMME_FIELDS)
        if kind == "answers":
            return _attachment(await self.evaluate("answers", answers), kind)
        if kind in ("calendar", "journal"):
            start, weeks, run_days = self.programme_fields(controls)
            plan, journal = await self.evaluate("start", answers, start, weeks, run_days)
            if journal is None:
                raise Problem(400, "No programme can start: " + referral_words(plan).heading)
            if kind == "journal":
                return _attachment(journal, kind)
            return _attachment(await self.evaluate("show", journal.encode(), "ics"), kind)
        plan = await self.evaluate("plan", answers)
        if kind == "plan":
            return _attachment(to_json(plan), kind)
        from ..present.handout import plan_html

        return _attachment(plan_html(plan, self.engine.about.labels), kind)

    @staticmethod
    def programme_fields(controls: Mapping[str, list[str]]) -> tuple[str, int, list[str]]:
        """The first day (default today), the weeks (default 6) and the run days."""
        start = _one(controls, "_start", dt.date.today().isoformat())
        weeks = _whole(controls, "_weeks", "6", "a whole number of weeks")
        days = [d.strip() for d in controls.get("_run_days", []) if d.strip()]
        unknown = [d for d in days if d not in WEEKDAYS]
        if unknown:
            raise Problem(400, f"_run_days: {unknown[0][:20]!r} is not a weekday; use "
                               + ", ".join(WEEKDAYS), "_run_days")
        return start, weeks, days

    # ------------------------------------------------------------------------- check-in

    async def checkin_form(self, request: Request) -> Response:
        flags = self.engine.about.questions["red_flags"]
        return self.page(request, "checkin.html.j2", title="Check in on your programme",
                         flags=list(zip(flags.values, (c.label for c in flags.choices))),
                         today=dt.date.today().isoformat())

    async def checkin(self, request: Request) -> Response:
        form = await self.form(request)
        journal = await _journal(form)
        values: dict[str, list[str]] = {}
        for name, value in self.text_fields(form, (JOURNAL_FIELD,)):
            if name == CSRF_FIELD:
                continue
            if name not in CHECKIN_FIELDS:
                raise Problem(400, f"{name[:40]}: unknown field; a check-in has "
                                   + ", ".join((JOURNAL_FIELD, *CHECKIN_FIELDS)), name[:40])
            values.setdefault(name, []).append(value)
        report = Checkin(_one(values, "date", dt.date.today().isoformat()),
                         _whole(values, "pain_during"), _one(values, "next_morning"),
                         _whole(values, "sessions"),
                         tuple(dict.fromkeys(v for v in values.get("red_flags", []) if v)))
        updated, result, words = await self.evaluate("checkin", journal, report)
        return self.page(request, "checked.html.j2", title="Your check-in",
                         decision=self.engine.about.decisions.get(result["decision"],
                                                                  result["decision"]),
                         refer=result["decision"] == "refer", words=words, journal=updated)

    async def journal_download(self, request: Request) -> Response:
        """The posted journal (from a check-in's page) as itself, a calendar or a handout."""
        kind = request.path_params["kind"]
        if kind not in JOURNAL_DOWNLOADS:
            raise Problem(404, f"There is no journal download called {kind[:40]!r}.")
        form = await self.form(request)
        extra = [name for name in form if name not in (CSRF_FIELD, JOURNAL_FIELD)]
        if extra:
            raise Problem(400, f"{extra[0][:40]}: unknown field; send only the journal", extra[0][:40])
        text = await self.evaluate("show", await _journal(form), JOURNAL_DOWNLOADS[kind])
        return _attachment(text, kind)

    # ----------------------------------------------------------------------------- errors

    def problem(self, request: Request, problem: Problem) -> Response:
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"error": problem.message, "field": problem.field,
                                 "status": problem.status}, status_code=problem.status)
        return self.page(request, "problem.html.j2", status=problem.status,
                         title=_TITLES.get(problem.status, "Something went wrong"),
                         message=problem.message)


_TITLES = {400: "Something in the form needs fixing", 403: "This form cannot be used",
           404: "No such page", 413: "Too much was sent", 503: "Please try again",
           500: "Something went wrong"}


def _in_field_names(message: str, field: str | None) -> tuple[str, str | None]:
    """A refusal in the pages' field names: the programme names a value in its own words, at
    the start of its message (:class:`~hipcoach.errors.ProgrammeError`)."""
    if field in PAGE_FIELDS and message.startswith(field):
        return PAGE_FIELDS[field] + message[len(field):], PAGE_FIELDS[field]
    return message, field


def _attachment(text: str, kind: str) -> Response:
    name, media = DOWNLOADS[kind]
    return Response(text, media_type=media,
                    headers={"content-disposition": f'attachment; filename="{name}"'})


async def _journal(form: FormData) -> bytes:
    """The journal a form carries: an uploaded file or, from a check-in's page, its text."""
    value = form.get(JOURNAL_FIELD)
    if isinstance(value, UploadFile):
        data = await value.read()
    elif isinstance(value, str) and value:
        data = value.encode("utf-8")
    else:
        raise Problem(400, "journal: no journal file was sent; choose the journal you "
                           "downloaded when the programme started", JOURNAL_FIELD)
    return data


def _one(values: Mapping[str, list[str]], name: str, default: str | None = None) -> str:
    given = values.get(name, [])
    if len(given) > 1:
        raise Problem(400, f"{name}: sent more than once", name)
    if not given or not given[0].strip():
        if default is not None:
            return default
        raise Problem(400, f"{name}: no answer given", name)
    return given[0].strip()


def _whole(values: Mapping[str, list[str]], name: str, default: str | None = None,
           what: str = "a whole number") -> int:
    text = _one(values, name, default)
    if not (text.isascii() and text.isdigit()):
        raise Problem(400, f"{name}: {text[:20]!r} is not {what}", name)
    return int(text)


def create_app(knowledge: Path | None = None, rules: Path | None = None) -> Starlette:
    """The web app on its own engine process (started here, stopped with the app)."""
    engine = EngineProcess(knowledge, rules)
    site = Site(engine)

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                response: Response = await handler(request)
            except Problem as problem:
                return site.problem(request, problem)
            return response
        return endpoint

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        message = "There is no such page." if status == 404 else "This method is not allowed here."
        return site.problem(request, Problem(status, message))

    routes = [Route("/", guarded(site.home), methods=["GET"]),
              Route("/answers", guarded(site.answer), methods=["POST"]),
              Route("/download/{kind}", guarded(site.download), methods=["POST"]),
              Route("/checkin", guarded(site.checkin_form), methods=["GET"]),
              Route("/checkin", guarded(site.checkin), methods=["POST"]),
              Route("/journal/{kind}", guarded(site.journal_download), methods=["POST"])]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        engine.close()

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found},
                    lifespan=lifespan)
    app.state.engine = engine

    async def too_large(scope: Any) -> Any:
        return JSONResponse({"error": f"the request is larger than {MAX_BODY // 1024} kB, the "
                                      "most a form or an uploaded journal may be",
                             "field": None, "status": 413}, status_code=413) \
            if _wants_json(scope) else _plain(413, f"Too much was sent: a form or an uploaded "
                                                   f"journal may be at most {MAX_BODY // 1024} kB.")

    async def failed(scope: Any) -> Any:
        return _plain(500, "Something went wrong on the server; nothing you entered was kept. "
                           "Please try again.")

    app.add_middleware(Guard, too_large=too_large, failed=failed)
    return app


def _wants_json(scope: Mapping[str, Any]) -> bool:
    return b"application/json" in dict(scope.get("headers", [])).get(b"accept", b"")


def _plain(status: int, message: str) -> Response:
    title = _TITLES.get(status, "Something went wrong")
    return HTMLResponse(f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                        f"<title>{title}</title></head><body><h1>{title}</h1><p>{message}</p>"
                        f"<p><a href=\"/\">Start again</a></p></body></html>", status_code=status)


def app_from_environment() -> Starlette:
    """The app as each `hipcoach serve` worker builds it: the folders come in the environment."""
    return create_app(*(Path(os.environ[key]) if os.environ.get(key) else None
                        for key in (ENV_KB, ENV_RULES)))

