"""Every API router, mounted in one place."""

from fastapi import APIRouter

from lianfang.alerts.routes import router as alerts_router
from lianfang.api.deps import Route
from lianfang.api.public import router as public_router
from lianfang.areas.routes import router as areas_router
from lianfang.auth.routes import router as auth_router
from lianfang.briefing.routes import router as briefing_router
from lianfang.dispatch.routes import router as dispatch_router
from lianfang.duty.routes import router as duty_router
from lianfang.forecast.routes import router as forecast_router
from lianfang.notify.routes import router as notify_router
from lianfang.people.routes import router as people_router
from lianfang.people.sheet_routes import router as people_sheet_router
from lianfang.resources.routes import router as resources_router

router = APIRouter(route_class=Route)
router.include_router(auth_router)
router.include_router(areas_router)
router.include_router(forecast_router)
router.include_router(people_sheet_router)  # before /people/{person_id}
router.include_router(people_router)
router.include_router(resources_router)
router.include_router(notify_router)
router.include_router(alerts_router)
router.include_router(public_router)
router.include_router(briefing_router)
router.include_router(dispatch_router)
router.include_router(duty_router)
