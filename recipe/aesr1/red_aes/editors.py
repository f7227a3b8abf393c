"""Pluggable editors of the data engine: the built-in classical editor and HTTP instruction editors.

Every editor has a ``name`` and ``async edit(image, instruction) -> bytes`` (encoded image) and raises
:class:`EditFailed` for a failure of this one edit (the engine records it and goes on) or
``FatalEndpointError`` when the endpoint refuses every request (bad key, model or URL).

The HTTP editor speaks the OpenAI images API (``POST {base_url}/images/edits``, multipart image +
prompt, ``response_format=b64_json``), which hosted editors and self-hosted servers for diffusion
editors (e.g. a small FastAPI wrapper around a diffusers ``QwenImageEditPipeline``) offer; several
can run at once, one per configured model.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os

import openai
from PIL import Image

from recipe.aesr1.endpoints.chat_client import FatalEndpointError
from recipe.aesr1.red_aes.classical_editor import ClassicalEditor
from recipe.aesr1.red_aes.engine.config import EditorConfig

_FATAL_ERRORS = (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)


class EditFailed(RuntimeError):
    """This edit produced no usable image (the reason is in the message)."""


_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def upload_file(data: bytes) -> tuple[str, bytes, str]:
    """``(file name, bytes, MIME type)`` of a source image for the multipart upload."""
    with Image.open(io.BytesIO(data)) as image:
        fmt = image.format or ""
    if fmt not in _MIME:
        raise EditFailed(f"source image format {fmt!r} is not one the images API takes (JPEG, PNG, WEBP)")
    return f"source.{fmt.lower()}", data, _MIME[fmt]


def check_image(data: bytes, where: str) -> bytes:
    """``data`` if it decodes as an image, else EditFailed naming ``where``."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except Exception as error:  # PIL raises many types for undecodable data
        raise EditFailed(f"{where}: returned data is not an image ({type(error).__name__}: {error})") from error
    return data


class ClassicalEngineEditor:
    """:class:`ClassicalEditor` in the engine's async interface (work runs in a thread)."""

    def __init__(self, config: EditorConfig):
        self.name = config.name
        self.model = "classical"
        self._editor = ClassicalEditor(config.name)

    async def edit(self, image: bytes, instruction: str) -> bytes:
        edited = await asyncio.to_thread(self._editor.edit, image, instruction)
        if edited is None:
            raise EditFailed(f"{self.name}: the instruction names no classical edit: {instruction!r}")
        return edited

    async def close(self) -> None:
        return None


class HttpInstructionEditor:
    """An OpenAI-images-API editing endpoint with bounded concurrency (retries: the openai client's)."""

    def __init__(self, config: EditorConfig):
        self.name = config.name
        self.model = config.model
        self.config = config
        key = "EMPTY"
        if config.api_key_env:
            key = os.environ.get(config.api_key_env) or ""
            if not key:
                raise ValueError(f"editor {config.name!r}: environment variable {config.api_key_env!r} is not set")
        self._client = openai.AsyncOpenAI(
            base_url=config.base_url, api_key=key, timeout=config.timeout_s, max_retries=config.max_retries
        )
        self._semaphore = asyncio.Semaphore(config.max_concurrency)

    async def edit(self, image: bytes, instruction: str) -> bytes:
        extra = {"size": self.config.size} if self.config.size else {}
        try:
            async with self._semaphore:
                response = await self._client.images.edit(
                    model=self.config.model,
                    image=upload_file(image),
                    prompt=instruction,
                    response_format="b64_json",
                    n=1,
                    **extra,
                )
        except _FATAL_ERRORS as error:
            raise FatalEndpointError(f"editor {self.name} ({self.config.base_url}): {error}") from error
        except openai.APIError as error:
            raise EditFailed(f"{self.name}: {type(error).__name__}: {str(error)[:300]}") from error
        data = getattr(response, "data", None) or []
        b64 = getattr(data[0], "b64_json", None) if data else None
        if not b64:
            raise EditFailed(f"{self.name}: reply holds no b64_json image")
        try:
            decoded = base64.b64decode(b64, validate=True)
        except ValueError as error:
            raise EditFailed(f"{self.name}: b64_json is not base64 ({error})") from error
        return check_image(decoded, self.name)

    async def close(self) -> None:
        await self._client.close()


def make_editor(config: EditorConfig) -> ClassicalEngineEditor | HttpInstructionEditor:
    return ClassicalEngineEditor(config) if config.kind == "classical" else HttpInstructionEditor(config)
