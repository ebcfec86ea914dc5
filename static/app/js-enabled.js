// GOV.UK Frontend's start-up classes, loaded as a file (no inline script: see CONTENT_SECURITY_POLICY).
// Runs synchronously at the top of <body>, before anything is drawn, so there is no flash of the
// no-JavaScript layout; components are initialised later by app.js.
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
