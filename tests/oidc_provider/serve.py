"""`python -m tests.oidc_provider.serve`: migrate, load the users and the client from
config.json, and serve on 127.0.0.1 until killed."""

import os


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0, interactive=False)
    for username, person in settings.CONFIG["users"].items():
        User.objects.create_user(username=username, password=person["password"])
    client = settings.CONFIG["client"]
    Application.objects.create(
        name="VRU Case Coordination",
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(client["redirect_uris"]),
        post_logout_redirect_uris=" ".join(client["post_logout_redirect_uris"]),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    run("127.0.0.1", settings.PORT, get_wsgi_application(), threading=True)


if __name__ == "__main__":
    main()
