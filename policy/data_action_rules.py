"""Data actions: the endpoints a flow calls are reached over https only."""

from __future__ import annotations

from collections.abc import Mapping

from pulumi_policy import ResourceValidationArgs

from .common import INTEGRATION_ACTION, ReportViolation, Rule, known, plain, unproven


def data_action_https_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Data actions call their endpoints over https only."""
    if args.resource_type != INTEGRATION_ACTION:
        return
    request = plain(args.props).get("configRequest")
    url = request.get("requestUrlTemplate") if isinstance(request, Mapping) else None
    if url is None:
        return
    if not known(url):
        unproven(report_violation, args.urn, "configRequest.requestUrlTemplate", "Build the URL from settings.")
        return
    # A Genesys Cloud data action (purecloud-data-actions) takes a path such as /api/v2/...: Genesys
    # resolves it against the org's own API over https, so it can name neither scheme nor region.
    if str(url).startswith("/api/"):
        return
    if not str(url).lower().startswith("https://"):
        report_violation(
            f"Data action {args.urn} requestUrlTemplate {url!r} is not an https URL. "
            "Use a literal https:// URL (or an /api/v2/ path for Genesys Cloud data actions)."
        )


DATA_ACTION_HTTPS = Rule(
    id="data-action-https",
    level="mandatory",
    description="Require data action request URLs to use https.",
    fix="Make configRequest.requestUrlTemplate a literal https:// URL.",
    validator=data_action_https_validator,
)

RULES: tuple[Rule, ...] = (DATA_ACTION_HTTPS,)
