"""Components declared on their own, asserted through their outputs (@pulumi.runtime.test)."""

from __future__ import annotations

import pulumi

from components.settings_model import Site
from components.web_messaging import WebMessaging

SITE = Site(key="www", domains=("www.example.com",), languages=("en-us",), default_language="en-us")


def web_messaging_args(**changes):
    return {
        "site": SITE,
        "configuration_name": "www messenger",
        "deployment_name": "www",
        "flow_id": "flow-1",
        "auth_integration_id": "oidc-1",
        "allow_session_upgrade": False,
        "profile_link": {
            "external_source_id": "source-1",
            "division_id": "division-1",
            "api_url": "https://api.mypurecloud.ie",
            "login_url": "https://login.mypurecloud.ie",
        },
        "protect": False,
    } | changes


@pulumi.runtime.test
def test_web_messaging_exposes_its_deployment_and_configuration(pulumi_mocks):
    site = WebMessaging("site-www", web_messaging_args())

    def check(args):
        urn, deployment_id, configuration_id = args
        assert deployment_id == "site-www-deployment-id", f"{urn}: {deployment_id}"
        assert configuration_id == "site-www-configuration-id", f"{urn}: {configuration_id}"
        children = [r for r in pulumi_mocks.declared if r.parent == urn]
        # The identity resolution registers once the deployment id is known (tested on the whole stack).
        assert {"site-www-configuration", "site-www-deployment"} <= {r.name for r in children}, urn

    return pulumi.Output.all(site.urn, site.deployment_id, site.configuration_id).apply(check)


def test_the_program_never_imports_the_tools():
    # Data flows one way: components -> estate -> preflight. A program module importing preflight/ (or the
    # tests) would make `pulumi up` depend on the tools that check it.
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    offenders = []
    for path in [*sorted((root / "components").glob("*.py")), root / "__main__.py", *(root / "bootstrap").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(root)}: {n}" for n in names if n.split(".")[0] in ("preflight", "tests")]
    assert not offenders, offenders


def test_the_stack_builds_every_component_with_its_args_type():
    # STYLE "Components": each built with its `...Args` TypedDict, so a misspelt or missing field is a type
    # error at the call, not a KeyError inside the component.
    import ast
    from pathlib import Path

    from components import stack

    source = Path(stack.__file__)
    components = {
        name
        for name, value in vars(stack).items()
        if isinstance(value, type) and issubclass(value, pulumi.ComponentResource)
    }
    built, offenders = set(), []
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in components:
            built.add(node.func.id)
            args = node.args[1] if len(node.args) > 1 else None
            if not (isinstance(args, ast.Call) and getattr(args.func, "id", None) == f"{node.func.id}Args"):
                offenders.append(f"components/stack.py:{node.lineno}: {node.func.id} without {node.func.id}Args(...)")
    assert built == components, f"imported but never built: {sorted(components - built)}"
    assert not offenders, offenders
