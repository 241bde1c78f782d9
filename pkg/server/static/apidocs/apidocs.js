// The broker's API page (/api/v1/docs): Swagger UI over the spec the broker
// serves. An external script, so the page keeps a CSP without inline script.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.yaml",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The spec is public; "Try it out" still needs a client_credentials token.
    validatorUrl: null,
  });
});
