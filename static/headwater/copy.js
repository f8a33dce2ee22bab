// Copy buttons: shown only when JavaScript runs; without it the text stays selectable.
for (const button of document.querySelectorAll("button.copy")) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const target = button.dataset.copy ? document.getElementById(button.dataset.copy) : null;
    const text = target ? target.textContent : button.dataset.copyText;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select and copy";
    }
    setTimeout(() => { button.textContent = "Copy"; }, 2000);
  });
}
