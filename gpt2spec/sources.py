"""Where GPT-2 small's weights come from: ``--weights`` settled before anything loads (the Hugging
Face cache, the hub, or the stand-in), the hub's answer, and the one line for a download that broke off.
Whose they are is decided by the fingerprint (``weights.py``), never here.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpt2spec import hubcache, loading, standin
from gpt2spec.hubcache import standin_marker

MODES = ("auto", "hub", "standin")  # --weights
# How long `auto` waits for the hub before it takes the stand-in. A reachable hub answers a
# metadata request in well under a second; huggingface_hub's own retries take ~27 s to give up.
HUB_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Choice:
    """Whose weights and which cache: what ``--weights`` settled on before anything loads, and why.

    The plugin keeps it for the run and passes it on; ``in_effect()`` points Hugging Face at it
    for as long as the run lasts.
    """

    mode: str
    why: str
    home: Path | None = None  # an HF_HOME of our own (the stand-in's); None: the user's Hugging Face cache
    offline: bool = True  # load without asking the hub (HF_HUB_OFFLINE): all of it is cached
    endpoint: str | None = None  # the hub it downloads from, when it does

    @property
    def standin(self) -> bool:
        return self.home is not None

    @contextlib.contextmanager
    def in_effect(self) -> Iterator[None]:
        """Hugging Face reads this choice's cache, offline or not: by environment (for what imports
        later, and child processes) and on ``huggingface_hub.constants`` (imported already, it read
        the environment then). Everything is put back on exit."""
        from huggingface_hub import constants

        env: dict[str, str | None] = {"HF_HUB_OFFLINE": "1" if self.offline else None}
        values: dict[str, Any] = {"HF_HUB_OFFLINE": self.offline}
        if self.home is not None:
            env |= {"HF_HOME": str(self.home), "HF_HUB_CACHE": None}
            hub = str(self.home / "hub")
            values |= {"HF_HOME": str(self.home), "HF_HUB_CACHE": hub, "HUGGINGFACE_HUB_CACHE": hub}
        saved_env = {name: os.environ.get(name) for name in env}
        saved = {name: getattr(constants, name) for name in values}
        try:
            set_environ(env)
            for name, value in values.items():
                setattr(constants, name, value)
            yield
        finally:
            set_environ(saved_env)
            for name, value in saved.items():
                setattr(constants, name, value)

    def describe(self) -> str:
        """Where the loader takes GPT-2 small from, in words (asked while ``in_effect``)."""
        where = hubcache.cached_file("config.json")
        if self.endpoint is not None:
            if where is None or hubcache.cache_lacks() is not None:
                return (
                    f"the Hugging Face cache at {hubcache.hf_home()}, downloaded from {self.endpoint} "
                    f"when the model first loads (548 MB, once); {self.why}"
                )
            return f"Hugging Face cache {where.parent}, downloaded from {self.endpoint} in this run"
        if where is None:
            return f"Hugging Face cache at {hubcache.hf_home()} (nothing cached); {self.why}"
        if (marker := standin_marker()) is not None:  # <home>/hub/models--*/snapshots/<rev>/
            built = f", induction circuit v{marker['circuit']} built in" if marker.get("circuit") is not None else ""
            text = f"stand-in weights, seed {marker['seed']}{built}, in {where.parents[4]} (offline)"
            return f"{text}; {self.why}" if self.standin else text
        return f"Hugging Face cache {where.parent} (offline)"


def set_environ(values: dict[str, str | None]) -> None:
    """Set each variable to its value; None removes it."""
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def hub_error(endpoint: str | None = None, timeout: float | None = None) -> str | None:
    """None if the Hugging Face hub answers for GPT-2 small within ``timeout`` (``HUB_TIMEOUT_S``); else
    what went wrong.

    The question is huggingface_hub's own first step of a download (the metadata of config.json,
    a HEAD: no body, so a slow download is not taken for a silent hub), with its proxies, CA
    bundle, token and ``HF_ENDPOINT``, and no retries. It runs in a daemon thread: a hanging name
    lookup ignores socket timeouts, and must not hold the process at exit either.
    """
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url

    timeout = HUB_TIMEOUT_S if timeout is None else timeout  # read when asked: the tests shorten it
    endpoint = (endpoint or constants.ENDPOINT).rstrip("/")
    url = hf_hub_url(hubcache.REPOS[0], "config.json", endpoint=endpoint)
    outcome: list[Any] = []

    def ask() -> None:
        try:
            outcome.append(get_hf_file_metadata(url, timeout=timeout))
        except Exception as error:  # noqa: BLE001 - any failure means: not reachable from here
            outcome.append(error)

    thread = threading.Thread(target=ask, name="gpt2spec-hub-probe", daemon=True)
    thread.start()
    thread.join(timeout + 1)
    answer = outcome[0] if outcome else None
    if answer is None or "Timeout" in type(answer).__name__:
        return f"{endpoint} gave no answer within {timeout:.0f} s"
    if isinstance(answer, Exception):
        response = getattr(answer, "response", None)
        if response is not None:  # an HTTP error: the hub answered, with a status
            return f"{endpoint} answered {status(response)}"
        reason = str(answer).strip().splitlines()
        return f"{endpoint}: {reason[0] if reason else type(answer).__name__}"
    if answer.commit_hash is None:
        return f"{endpoint} answered, but not as a Hugging Face hub (no X-Repo-Commit header: a proxy or a captive portal?)"
    return None


def status(response: Any) -> str:
    """``503 Service Unavailable``: an httpx response (huggingface_hub 1.x, 2.x) or a requests one (0.x)."""
    return f"{response.status_code} {getattr(response, 'reason_phrase', None) or getattr(response, 'reason', '')}".strip()


def _standin(mode: str, why: str, say: Any) -> Choice:
    home, built = standin.ensure()
    if built:
        say(f"gpt2spec: built the stand-in GPT-2 small (seed {standin.SEED}) in {home}; later runs reuse it")
    return Choice(mode, why, home=home)


def choose(mode: str, say: Any = print, endpoint: str | None = None) -> Choice:
    """Settle where GPT-2 small comes from, before anything loads (``--weights``).

    ``hub``: OpenAI's, from the Hugging Face cache or the hub, never anything else. ``standin``:
    always the stand-in. ``auto``: the cache, else the hub, else (offline, or the hub silent for
    ``HUB_TIMEOUT_S``) the stand-in, built once into ``standin.cache_root()``. A cached model
    loads offline: a run that has it asks the hub nothing. ``endpoint``: the hub to ask, by default
    huggingface_hub's (``HF_ENDPOINT``, else huggingface.co).
    """
    from huggingface_hub import constants

    endpoint = endpoint or constants.ENDPOINT
    if mode == "standin":
        return _standin(mode, "--weights standin", say)
    if hubcache.cache_lacks() is None or (hubcache.offline() and hubcache.cache_lacks(tokenizer=False) is None):
        return Choice(mode, "found in the Hugging Face cache")  # (offline, a missing tokenizer is reported, not replaced)
    if hubcache.offline():
        if mode == "hub":
            loading.check_offline_cache()  # raises: one line saying what to do
        return _standin(mode, f"--weights auto: HF_HUB_OFFLINE is set and the cache at {hubcache.hf_home()} has no GPT-2 small", say)
    if (error := hub_error(endpoint)) is None:
        return Choice(mode, f"--weights {mode}: not in the cache, and the hub answered", offline=False, endpoint=endpoint)
    if mode == "hub":
        raise loading.SetupError(f"--weights hub: {error}; connect to the hub, or run on the stand-in with --weights standin")
    return _standin(mode, f"--weights auto: the hub is out of reach ({error})", say)


def download_failed(endpoint: str, error: BaseException) -> str:
    """The one line for a download that broke off: the hub's 5xx (named by the file it was answered
    for, which transformers' message hides), else transformers' own first line (a missing file)."""
    what = loading.first_line(error)
    cause: BaseException | None = error
    while cause is not None:
        response = getattr(cause, "response", None)
        if response is not None and response.status_code >= 500:
            what = f"{str(response.url).rsplit('/', 1)[-1]}: answered {status(response)}"
            break
        cause = cause.__cause__ or cause.__context__
    return (
        f"could not download GPT-2 small from {endpoint} ({what}); nothing half-downloaded is taken for whole: "
        "run again when the hub answers (a cut download resumes), or run on the stand-in with --weights standin"
    )
