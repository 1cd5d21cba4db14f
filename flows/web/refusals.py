"""What a route raises to answer with a plain page (one sentence) or a redirect."""


class PlainRefusal(Exception):
    """Answer with a plain page: ``sentence`` under ``title``, with ``status``; ``link`` is
    where to go next (path, words)."""

    def __init__(
        self,
        status: int,
        title: str,
        sentence: str,
        link: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(sentence)
        self.status = status
        self.title = title
        self.sentence = sentence
        self.link = link


class SignInNeeded(Exception):
    """No (valid) session: the member is sent to the sign-in page."""


FORGED_FORM = PlainRefusal(
    403,
    "This form has expired",
    "This form has expired or did not come from this site: go back, reload the page and try again.",
)
