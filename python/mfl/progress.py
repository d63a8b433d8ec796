"""A tqdm progress bar (``tqdm.auto``: a widget in Jupyter, text in a terminal) fed by the
run's progress updates; nothing when tqdm is not installed or ``progress=False``."""


class Bar:
    """Callable ``(what, fraction, message)`` that draws one bar per run."""

    def __init__(self, enabled=True):
        self._bar = None
        self._tqdm = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # tqdm is optional
                tqdm = None
            self._tqdm = tqdm

    def __call__(self, what, fraction, message):
        if self._tqdm is None:
            return
        if self._bar is None:
            self._bar = self._tqdm(total=1000, desc=what, unit="‰", leave=True)
        self._bar.n = int(round(fraction * 1000))
        self._bar.set_postfix_str(message, refresh=False)
        self._bar.refresh()

    def close(self):
        """Leave the bar's final state on screen."""
        if self._bar is not None:
            self._bar.close()
