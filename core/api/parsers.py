"""The API's JSON parser: DRF's, with a body nested too deeply to decode answered as 400."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # json raises RecursionError, not ValueError, for e.g. 100,000 nested arrays; DRF
            # catches only ValueError, so it would be a 500.
            raise ParseError("JSON nested too deeply.") from None
