"""The JSON API for CMS/DAM systems: `Authorization: Bearer <workspace token>`, OpenAPI at /docs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from skureel.web import service
from skureel.web.auth import Caller, api_caller
from skureel.web.service import Refused

router = APIRouter(prefix="/api/v1", tags=["batches"])


def caller(request: Request) -> Caller:
    return api_caller(request.app.state.store, request)


CallerDep = Annotated[Caller, Depends(caller)]


class RejectEntry(BaseModel):
    sku: str
    format: str
    shot: str | None = None
    reason: str


class CellRef(BaseModel):
    sku: str
    format: str
    shot: str | None = None


class ReviewBody(BaseModel):
    approve: list[int | CellRef] = Field(default_factory=list)
    reject: list[RejectEntry] = Field(default_factory=list)


def _refused(exc: Refused) -> HTTPException:
    return HTTPException(exc.status, exc.message)


def _split(text: str | None) -> list[str] | None:
    return [x.strip() for x in text.split(",") if x.strip()] if text else None


@router.post("/batches", status_code=201, summary="Upload a sheet (and optionally an images zip) as a new batch")
def create_batch(request: Request, who: CallerDep, sheet: Annotated[UploadFile, File()],
                 images: Annotated[UploadFile | None, File()] = None,
                 brand_kit: Annotated[str | None, Form()] = None, providers: Annotated[str | None, Form()] = None,
                 formats: Annotated[str | None, Form()] = None, max_spend: Annotated[float | None, Form()] = None,
                 only: Annotated[str | None, Form()] = None,
                 quality: Annotated[str | None, Form()] = None) -> dict[str, Any]:
    """With `brand_kit`, the batch is also estimated at once (state `estimated`), ready for `POST .../run`."""
    state = request.app.state
    try:
        batch_id = service.create_batch(state.config, state.store, who.workspace_id, who.who, who.role, sheet.file,
                                        sheet.filename or "sheet", images.file if images and images.filename else None)
        batch = service.load(state.store, batch_id, who.workspace_id)
        if brand_kit and batch["state"] != "invalid":
            values: dict[str, Any] = {"brand_kit": brand_kit, "max_spend": max_spend}
            for name, text in (("providers", providers), ("formats", formats), ("only", only)):
                if parsed := _split(text):
                    values[name] = parsed
            if quality:
                values["quality"] = quality
            service.estimate(state.config, state.store, batch, who.role, service.parse_options(values))
            batch = service.load(state.store, batch_id, who.workspace_id)
    except Refused as exc:
        raise _refused(exc) from exc
    return service.summary(state.store, batch, f"/api/v1/batches/{batch_id}")


@router.get("/batches/{batch_id}", summary="A batch: state, counts, estimate and problems")
def get_batch(request: Request, batch_id: str, who: CallerDep) -> dict[str, Any]:
    store = request.app.state.store
    try:
        batch = service.load(store, batch_id, who.workspace_id)
    except Refused as exc:
        raise _refused(exc) from exc
    return service.summary(store, batch, f"/api/v1/batches/{batch_id}")


@router.post("/batches/{batch_id}/run", status_code=202, summary="Start the run (409 when running or not estimated)")
def run_batch(request: Request, batch_id: str, who: CallerDep) -> dict[str, Any]:
    state = request.app.state
    try:
        batch = service.load(state.store, batch_id, who.workspace_id)
        key = service.run(state.config, state.store, state.runner, batch, who.role)
    except Refused as exc:
        raise _refused(exc) from exc
    return {"id": batch_id, "state": "running", "run_key": key}


@router.post("/batches/{batch_id}/cancel", summary="Stop a running batch (409 when it is not running)")
def cancel_batch(request: Request, batch_id: str, who: CallerDep) -> dict[str, Any]:
    state = request.app.state
    try:
        batch = service.load(state.store, batch_id, who.workspace_id)
        service.cancel(state.store, state.runner, batch, who.role, who.who)
    except Refused as exc:
        raise _refused(exc) from exc
    return {"id": batch_id, "state": "failed", "error": f"cancelled by {who.who}"}


@router.get("/batches/{batch_id}/deliverables", summary="One entry per clip with its status and download URL")
def deliverables(request: Request, batch_id: str, who: CallerDep) -> dict[str, Any]:
    store = request.app.state.store
    try:
        service.load(store, batch_id, who.workspace_id)
    except Refused as exc:
        raise _refused(exc) from exc
    from skureel.web.batches import deliverables as listing

    return {"id": batch_id, "deliverables": listing(store, batch_id, f"/api/v1/batches/{batch_id}")}


@router.get("/batches/{batch_id}/clips/{cell_id}", summary="Download one clip", response_class=FileResponse)
def clip(request: Request, batch_id: str, cell_id: int, who: CallerDep) -> FileResponse:
    return _file(request, batch_id, cell_id, who, "clip_path", "video/mp4")


@router.get("/batches/{batch_id}/posters/{cell_id}", summary="Download one poster frame", response_class=FileResponse)
def poster(request: Request, batch_id: str, cell_id: int, who: CallerDep) -> FileResponse:
    return _file(request, batch_id, cell_id, who, "poster_path", "image/jpeg")


def _file(request: Request, batch_id: str, cell_id: int, who: Caller, column: str, kind: str) -> FileResponse:
    store = request.app.state.store
    try:
        service.load(store, batch_id, who.workspace_id)
    except Refused as exc:
        raise _refused(exc) from exc
    cell = store.cell(batch_id, cell_id)
    if cell is None or not cell[column] or not Path(cell[column]).exists():
        raise HTTPException(404, "no such clip")
    return FileResponse(cell[column], media_type=kind)


@router.post("/batches/{batch_id}/review", summary="Approve and reject cells (a rejection needs a reason)")
def review(request: Request, batch_id: str, body: ReviewBody, who: CallerDep) -> dict[str, Any]:
    store = request.app.state.store
    approve: list[Any] = [a if isinstance(a, int) else a.model_dump(exclude_none=True) for a in body.approve]
    reject = [r.model_dump(exclude_none=True) for r in body.reject]
    try:
        batch = service.load(store, batch_id, who.workspace_id)
        changed = service.review(store, batch, who.role, who.who, approve, reject)
    except Refused as exc:
        raise _refused(exc) from exc
    return {"id": batch_id, "changed": changed}


@router.post("/batches/{batch_id}/publish", summary="Publish approved cells to the batch's folder target")
def publish(request: Request, batch_id: str, who: CallerDep) -> JSONResponse:
    state = request.app.state
    try:
        batch = service.load(state.store, batch_id, who.workspace_id)
        published = service.publish(state.config, state.store, batch, who.role)
    except Refused as exc:
        raise _refused(exc) from exc
    return JSONResponse({"id": batch_id, "state": "done", "published": len(published),
                         "deliverables": [{k: p.get(k) for k in ("sku", "shot", "format", "status")} for p in published]})
