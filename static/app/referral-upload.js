// A referral upload's progress (templates/web/referral_upload_job.html): asks the server every two
// seconds and moves the bar; once the import has finished, loads the page with its results.
// Without JavaScript, the page's "Check progress" link does the same by hand.
const box = document.getElementById("upload-progress");

if (box) {
  const bar = document.getElementById("upload-progress-bar");
  const text = document.getElementById("upload-progress-text");
  const poll = () =>
    fetch(box.dataset.progressUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then((response) => (response.ok ? response.json() : null))
      .then((job) => {
        if (!job) return;
        if (job.finished) {
          window.location.assign(job.url);
          return;
        }
        bar.value = job.progress;
        bar.textContent = `${job.progress}%`;
        text.textContent = `${job.status_text}: ${job.progress}%`;
        window.setTimeout(poll, 2000);
      })
      .catch(() => window.setTimeout(poll, 5000));
  window.setTimeout(poll, 1000);
}
