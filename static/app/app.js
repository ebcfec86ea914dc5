// Progressive enhancement only: every core flow works without JavaScript.
import { initAll } from "../govuk/govuk-frontend.min.js";

initAll();

// Session timeout warning: the server signs people out after SESSION_IDLE_TIMEOUT seconds without a
// request. Two minutes before that, offer to stay signed in (GOV.UK timeout warning pattern).
// Nothing here extends the session on its own: only the person choosing to stay does.
function sessionTimeout() {
  const timeout = Number(document.body.dataset.sessionTimeout || 0);
  const dialog = document.getElementById("session-timeout");
  if (!timeout || !dialog || typeof dialog.showModal !== "function") return;
  const warnBefore = Math.min(120, Math.floor(timeout / 2));
  const remaining = dialog.querySelector(".app-timeout__remaining");
  const form = dialog.querySelector("form");
  let deadline = Date.now() + timeout * 1000;
  let warnTimer, endTimer, tick;
  let returnFocus = null;

  const describe = (seconds) => {
    if (seconds >= 60) {
      const minutes = Math.ceil(seconds / 60);
      return `${minutes} minute${minutes === 1 ? "" : "s"}`;
    }
    return `${seconds} second${seconds === 1 ? "" : "s"}`;
  };

  const signOut = () => {
    const signOutForm = document.getElementById("sign-out-form");
    const body = signOutForm ? new FormData(signOutForm) : null;
    fetch("/logout/", { method: "POST", body, credentials: "same-origin" }).finally(() => {
      window.location.href = "/login/?timeout=1";
    });
  };

  const schedule = () => {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    clearInterval(tick);
    deadline = Date.now() + timeout * 1000;
    warnTimer = setTimeout(warn, (timeout - warnBefore) * 1000);
    endTimer = setTimeout(signOut, timeout * 1000);
  };

  const warn = () => {
    returnFocus = document.activeElement;
    remaining.textContent = describe(warnBefore);
    dialog.showModal();
    // Update the visible countdown every 20 seconds; screen readers hear it once, when it opens.
    tick = setInterval(() => {
      const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      remaining.textContent = describe(left);
    }, 20000);
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then((response) => {
        if (!response.ok) throw new Error("expired");
        dialog.close();
        if (returnFocus) returnFocus.focus();
        schedule();
      })
      .catch(() => { window.location.href = "/login/?timeout=1"; });
  });
  dialog.querySelector("#session-sign-out").addEventListener("click", signOut);
  // Escape closes a modal dialog; treat it as "stay signed in", as GOV.UK's pattern does.
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    form.requestSubmit();
  });
  schedule();
}

sessionTimeout();
