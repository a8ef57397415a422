"""Offline text to speech with eSpeak NG (the library shipped by the espeakng-loader wheel), with word timings.

No network and no model download: the engine and its voices are inside the installed package.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

import numpy as np

from skureel.domain import SkureelError

_LOCK = threading.Lock()  # eSpeak NG is a process-wide singleton


class SpeechUnavailable(SkureelError):
    pass


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class Word:
    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Speech:
    samples: np.ndarray  # float32 mono
    rate: int
    words: list[Word]

    @property
    def duration_s(self) -> float:
        return float(self.samples.shape[0] / self.rate)


_engine: tuple[ctypes.CDLL, int] | None = None


def _load() -> tuple[ctypes.CDLL, int]:
    global _engine
    if _engine is not None:
        return _engine
    try:
        import espeakng_loader
    except ImportError as exc:
        raise SpeechUnavailable("no speech engine: install it with `pip install espeakng-loader` (make install does)") from exc
    lib = ctypes.cdll.LoadLibrary(espeakng_loader.get_library_path())
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    rate = lib.espeak_Initialize(1, 500, espeakng_loader.get_data_path().encode(), 0)  # AUDIO_OUTPUT_RETRIEVAL
    if rate <= 0:
        raise SpeechUnavailable("eSpeak NG failed to start (its data folder is missing)")
    _engine = (lib, rate)
    return _engine


def synthesize(text: str, voice: str = "en-us", words_per_minute: int = 165) -> Speech:
    """Speak `text`; returns mono samples and the start and end time of every word."""
    with _LOCK:
        lib, rate = _load()
        chunks: list[np.ndarray] = []
        events: list[tuple[int, int, int]] = []  # text position (1-based chars), length, audio ms

        def collect(wav: ctypes.POINTER(ctypes.c_short), count: int, event_ptr: ctypes.POINTER(_Event)) -> int:  # type: ignore[valid-type]
            if count > 0:
                chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).astype(np.float32) / 32768.0)
            i = 0
            while event_ptr[i].type != 0:
                if event_ptr[i].type == 1:  # espeakEVENT_WORD
                    events.append((event_ptr[i].text_position, event_ptr[i].length, event_ptr[i].audio_position))
                i += 1
            return 0

        callback = _CALLBACK(collect)
        lib.espeak_SetSynthCallback(callback)
        if lib.espeak_SetVoiceByName(voice.encode()) != 0 and lib.espeak_SetVoiceByName(b"en") != 0:
            raise SpeechUnavailable(f"eSpeak NG has no voice {voice!r}")
        lib.espeak_SetParameter(1, words_per_minute, 0)  # espeakRATE
        data = text.encode("utf-8")
        buffer = ctypes.create_string_buffer(data)
        status = lib.espeak_Synth(buffer, len(data) + 1, 0, 1, 0, 0x1, None, None)  # POS_CHARACTER, espeakCHARS_UTF8
        lib.espeak_Synchronize()
        if status != 0:
            raise SpeechUnavailable(f"eSpeak NG could not speak the script (status {status})")
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    total = samples.shape[0] / rate
    words: list[Word] = []
    chars = text  # text_position counts characters from 1
    for n, (position, length, ms) in enumerate(events):
        start = ms / 1000
        end = events[n + 1][2] / 1000 if n + 1 < len(events) else total
        word = chars[max(0, position - 1) : max(0, position - 1) + max(1, length)].strip()
        words.append(Word(text=word or "…", start_s=start, end_s=max(start + 0.05, end)))
    return Speech(samples=samples, rate=rate, words=words)
