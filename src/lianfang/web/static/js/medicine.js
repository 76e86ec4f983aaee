// The public medicine page: "use my location" asks the browser for the phone's position (only
// when the visitor grants it) and searches from there; the position goes to the server in the
// address, nothing is kept. Without geolocation the button stays hidden.
(() => {
  const form = document.querySelector("[data-testid=medicine-form]");
  const button = form && form.querySelector("[data-locate]");
  if (!button || !("geolocation" in navigator)) return;
  const status = form.querySelector("[data-locate-status]");
  const place = form.elements.namedItem("q");
  button.hidden = false;
  button.addEventListener("click", () => {
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      (position) => {
        for (const [name, value] of [["lon", position.coords.longitude],
                                     ["lat", position.coords.latitude]]) {
          const input = form.elements.namedItem(name);
          input.value = value.toFixed(5);
          input.disabled = false;
        }
        place.value = "";
        const near = form.elements.namedItem("near");
        if (near) near.remove();
        form.submit();
      },
      () => {
        status.textContent = button.dataset.failed;
        button.disabled = false;
      },
      { timeout: 10000, maximumAge: 300000 },
    );
  });
})();
