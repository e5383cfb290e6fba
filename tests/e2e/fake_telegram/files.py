"""Files: uploads kept and served back, photos in sizes, sendPhoto, sendDocument, getFile."""

from __future__ import annotations

import copy
import mimetypes
import secrets

from tests.e2e.fake_telegram.limits import (
    ERR_INVALID_FILE_ID,
    ERR_WRONG_FILE_ID,
    GET_FILE_MAX_BYTES,
    PHOTO_MAX_BYTES,
    UPLOAD_MAX_BYTES,
    ApiError,
    Json,
)
from tests.e2e.fake_telegram.params import _image_size, _opt_bool, _opt_str, _scaled
from tests.e2e.fake_telegram.records import StoredFile, Upload, _Call


class FileMethods:
    """Files: uploads kept and served back, photos in sizes, sendPhoto, sendDocument, getFile (mixed into FakeTelegram)."""

    def _new_file(
        self, kind: str, data: bytes, *, extension: str, file_name: str | None = None, mime_type: str | None = None
    ) -> StoredFile:
        prefixes = {"photo": "AgACAgQAAxkBAA", "document": "BQACAgQAAxkBAA", "sticker": "CAACAgIAAxkBAA"}
        number = next(self._file_counter)
        folder = {"photo": "photos", "document": "documents", "sticker": "stickers"}[kind]
        stored = StoredFile(
            file_id=prefixes[kind] + secrets.token_urlsafe(30),
            file_unique_id="AQAD" + secrets.token_urlsafe(9),
            file_path=f"{folder}/file_{number}{extension}",
            data=data,
            kind=kind,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    def _store_photo(self, data: bytes, size: tuple[int, int]) -> list[Json]:
        """The PhotoSize array of a new photo: a thumbnail and the full size. Both serve the
        original bytes (the fake does not resize); the last one is the original."""
        width, height = size
        sizes: list[Json] = []
        for limit in (90, 2560):
            w, h = _scaled(width, height, limit)
            stored = self._new_file("photo", data, extension=".jpg", mime_type="image/jpeg")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(data),
                    "width": w,
                    "height": h,
                }
            )
        for photo_size in sizes:
            self._photo_sizes[photo_size["file_id"]] = sizes
        return sizes

    def _input_file(self, call: _Call, name: str) -> Upload | StoredFile:
        """The file of a send* request: an upload (direct or attach://) or a known file_id."""
        value = call.params.get(name)
        if isinstance(value, Upload):
            upload = value
        elif isinstance(value, str) and value.startswith("attach://"):
            found = call.uploads.get(value[len("attach://") :])
            if found is None:
                raise ApiError(400, f'Bad Request: can\'t find attached file "{value[len("attach://") :]}"')
            upload = found
        elif isinstance(value, str) and value:
            if value.startswith(("http://", "https://")):
                raise ApiError(400, "Bad Request: failed to get HTTP URL content (FakeTelegram cannot fetch URLs)")
            stored = self.files.get(value)
            if stored is None:
                raise ApiError(400, ERR_WRONG_FILE_ID)
            return stored
        else:
            raise ApiError(400, f"Bad Request: there is no {name} in the request")
        if not upload.data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        return upload

    def _m_send_photo(self, call: _Call) -> Json:
        p = call.params
        chat = self._send_chat(p)
        source = self._input_file(call, "photo")
        size: tuple[int, int] | None = None
        if isinstance(source, StoredFile):
            if source.kind != "photo":
                raise ApiError(400, f"Bad Request: can't use file of type {source.kind.capitalize()} as Photo")
        else:
            size = _image_size(source.data)
            if size is None:
                raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
            if len(source.data) > PHOTO_MAX_BYTES:
                raise ApiError(400, "Bad Request: file is too big")
            if size[0] + size[1] > 10000 or max(size) > 20 * max(1, min(size)):
                raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        caption, entities = self._caption(p)
        markup = self._markup(p)
        reply_to = self._reply_to(p, chat)
        self._rate_gate(chat["id"])
        if isinstance(source, StoredFile):
            sizes = copy.deepcopy(self._photo_sizes[source.file_id])
        else:
            assert size is not None
            sizes = self._store_photo(source.data, size)
        content: Json = {"photo": copy.deepcopy(sizes)}
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        if _opt_bool(p, "has_spoiler"):
            content["has_media_spoiler"] = True
        return self._bot_message(chat, content, markup, reply_to)

    def _m_send_document(self, call: _Call) -> Json:
        p = call.params
        chat = self._send_chat(p)
        source = self._input_file(call, "document")
        if isinstance(source, StoredFile) and source.kind != "document":
            raise ApiError(400, f"Bad Request: can't use file of type {source.kind.capitalize()} as Document")
        if isinstance(source, Upload) and len(source.data) > UPLOAD_MAX_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        caption, entities = self._caption(p)
        markup = self._markup(p)
        reply_to = self._reply_to(p, chat)
        self._rate_gate(chat["id"])
        if isinstance(source, Upload):
            file_name = source.filename or "document"
            mime_type = (
                mimetypes.guess_type(file_name)[0]
                or (source.content_type if source.content_type and source.content_type != "application/octet-stream" else None)
                or "application/octet-stream"
            )
            extension = mimetypes.guess_extension(mime_type) or ""
            if "." in file_name:
                extension = "." + file_name.rsplit(".", 1)[1]
            stored = self._new_file("document", source.data, extension=extension, file_name=file_name, mime_type=mime_type)
        else:
            stored = source
        document: Json = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        content: Json = {"document": document}
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        return self._bot_message(chat, content, markup, reply_to)

    def _m_get_file(self, call: _Call) -> Json:
        stored = self.files.get(_opt_str(call.params, "file_id") or "")
        if stored is None:
            raise ApiError(400, ERR_INVALID_FILE_ID)
        if stored.file_size > GET_FILE_MAX_BYTES:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }
