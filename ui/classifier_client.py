"""The board's client of TorchServe's inference API (token auth, timeout, bounded retries).

Errors are split by what the board should do next:
  - `ClassifierUnavailable`: TorchServe down, slow, overloaded or erroring; keep the item pending
    and let the background worker retry later.
  - `ClassifierRejected`: TorchServe refused this text (4xx other than auth); mark it failed.
An expired or rotated inference key is handled here: re-read key_file.json, and if it still holds
the refused key, ask TorchServe's token API (with the API key) for a new one.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests
import requests.adapters

from serving.torchserve import Keys, TorchServeError
from stack.settings import MODEL_NAME, Settings

log = logging.getLogger(__name__)


class ClassifierUnavailable(RuntimeError):
    """Transient: try again later."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class ClassifierRejected(ValueError):
    """Permanent: TorchServe refused this input."""


@dataclass(frozen=True)
class Classification:
    label: str
    score: float
    threshold: float
    model: str
    """"<name>/<version>" of the model that answered."""


class TorchServeClient:
    def __init__(self, cfg: Settings, http: requests.Session | None = None):
        self.url = f"{cfg.inference_url}/predictions/{MODEL_NAME}"
        self.explain_url = f"{cfg.inference_url}/explanations/{MODEL_NAME}"
        self.token_url = f"{cfg.management_url}/token"
        self.key_file = Path(cfg.key_file)
        self.timeout_s = cfg.classify_timeout_s
        self.retries = cfg.classify_retries
        self.http = http or self._session()
        self.fixed_key = cfg.ts_inference_key
        self._key: str | None = self.fixed_key
        self._lock = threading.Lock()

    @staticmethod
    def _session() -> requests.Session:
        """A session whose connection pool covers the board's concurrent calls (ui.app.CONCURRENCY)."""
        session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    # Keys -----------------------------------------------------------------------------------
    def _read_keys(self) -> Keys:
        try:
            return Keys.read(self.key_file)
        except TorchServeError as exc:
            raise ClassifierUnavailable("no_key", str(exc)) from exc

    def inference_key(self) -> str:
        with self._lock:
            if self._key is None:
                self._key = self._read_keys().inference
            return self._key

    def refresh_key(self, refused: str) -> None:
        """Replace a refused key: a newer one from the file, else a fresh one from the token API."""
        if self.fixed_key:
            raise ClassifierUnavailable("auth", "TorchServe refused the configured ADS_TS_INFERENCE_KEY")
        with self._lock:
            keys = self._read_keys()
            if keys.inference == refused:
                log.info("inference key refused; requesting a new one from TorchServe's token API")
                try:
                    self.http.get(
                        self.token_url,
                        params={"type": "inference"},
                        headers={"Authorization": f"Bearer {keys.token_api}"},
                        timeout=self.timeout_s,
                    ).raise_for_status()
                except requests.RequestException as exc:
                    raise ClassifierUnavailable("auth", f"token refresh failed: {exc}") from exc
                keys = self._read_keys()
            self._key = keys.inference

    # Classification ---------------------------------------------------------------------------
    def _post(self, title: str, body: str, key: str, url: str | None = None) -> requests.Response:
        try:
            return self.http.post(
                url or self.url,
                json={"title": title, "body": body},
                headers={"Authorization": f"Bearer {key}"},
                timeout=self.timeout_s,
            )
        except requests.Timeout as exc:
            raise ClassifierUnavailable("timeout", f"TorchServe did not answer in {self.timeout_s}s") from exc
        except requests.ConnectionError as exc:
            raise ClassifierUnavailable("connection", f"TorchServe unreachable: {exc}") from exc

    def classify_once(self, title: str, body: str) -> Classification:
        data = self._answer(title, body, self.url)
        return Classification(data["label"], float(data["score"]), float(data["threshold"]), data["model"])

    def explain(self, title: str, body: str) -> list[tuple[str, float]]:
        """The phrases that pushed the score up, strongest first, from TorchServe's explanations
        call (empty when the served bundle has no lexical component)."""
        data = self._answer(title, body, self.explain_url)
        return [(str(e["text"]), float(e["weight"])) for e in data.get("evidence", [])]

    def _answer(self, title: str, body: str, url: str) -> dict:
        """One call to `url` with a fresh key on refusal; transient and final failures raised apart."""
        key = self.inference_key()
        response = self._post(title, body, key, url)
        if (response.status_code in (400, 401) and "InvalidKeyException" in response.text) or (
            response.status_code == 401
        ):
            self.refresh_key(key)
            response = self._post(title, body, self.inference_key(), url)
            if response.status_code == 401:
                raise ClassifierUnavailable("auth", "TorchServe refused a fresh inference key")
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise ClassifierUnavailable(f"http_{response.status_code}", response.text[:300])
        if response.status_code >= 400:
            try:
                message = response.json().get("error") or response.json().get("message")
            except ValueError:
                message = response.text
            raise ClassifierRejected(f"HTTP {response.status_code}: {message}")
        return response.json()

    def classify(self, title: str, body: str, retries: int | None = None) -> Classification:
        """Classify with up to `retries` (default: configured) extra attempts on transient errors."""
        retries = self.retries if retries is None else retries
        for attempt in range(retries + 1):
            try:
                return self.classify_once(title, body)
            except ClassifierUnavailable as exc:
                if attempt == retries or exc.kind == "no_key":
                    raise
                time.sleep(min(0.25 * 2**attempt, 2.0))
        raise AssertionError("unreachable")
