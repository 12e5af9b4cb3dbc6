"""Data actions: the endpoints a flow calls are reached over https only."""

from __future__ import annotations

from collections.abc import Mapping

from pulumi_policy import ResourceValidationArgs

from .common import CUSTOM_AUTH_ACTION, INTEGRATION_ACTION, ReportViolation, Rule, known, plain, unproven


def data_action_https_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Data actions (and a web services integration's custom auth action) call their endpoints over https
    only, on a host fixed when the action is declared."""
    if args.resource_type not in (INTEGRATION_ACTION, CUSTOM_AUTH_ACTION):
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
        return
    # A Velocity expression in the host would let an input (or a credential field) choose where the
    # request and its credential go; templates belong in the path or query only.
    authority = str(url)[len("https://") :].split("/", 1)[0].split("?", 1)[0]
    if "$" in authority or "#" in authority:
        report_violation(
            f"Data action {args.urn} requestUrlTemplate {url!r} computes its host. "
            "Use a literal host; put ${input.*} in the path or query."
        )


DATA_ACTION_HTTPS = Rule(
    id="data-action-https",
    level="mandatory",
    description="Require data action request URLs to use https.",
    fix="Make configRequest.requestUrlTemplate a literal https:// URL.",
    validator=data_action_https_validator,
)

RULES: tuple[Rule, ...] = (DATA_ACTION_HTTPS,)
