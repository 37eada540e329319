// The Book Theme's sidebar buttons, made to work on phones. pydata-sphinx-theme 0.20 wires only the
// first ".primary-toggle" (and ".secondary-toggle") of a page, its own hidden navbar's, so the Book
// Theme's visible buttons do nothing and a phone never sees the sidebars (pydata-sphinx-theme issue
// 2451). Each visible button passes its click to the wired one.
document.addEventListener("DOMContentLoaded", () => {
  for (const kind of ["primary-toggle", "secondary-toggle"]) {
    const [wired, ...others] = document.querySelectorAll(`.${kind}`);
    others.forEach((button) => button.addEventListener("click", (event) => {
      event.preventDefault();
      event.stopPropagation();
      wired.click();
    }));
  }
});
