-- archdsl: comments, indentation, and the language server (`archdsl lsp`) for `.arch` buffers.
-- Settings (before the buffer opens): vim.g.archdsl_lsp_cmd = { "/path/to/archdsl", "lsp" }
-- (default { "archdsl", "lsp" }); vim.g.archdsl_lsp = false to leave the server to your own
-- configuration (e.g. vim.lsp.config / nvim-lspconfig).
vim.bo.commentstring = "# %s"
vim.bo.comments = ":#"
vim.bo.shiftwidth = 4
vim.bo.expandtab = true

if vim.g.archdsl_lsp == false then
  return
end

local cmd = vim.g.archdsl_lsp_cmd or { "archdsl", "lsp" }
local buf = vim.api.nvim_get_current_buf()
local name = vim.api.nvim_buf_get_name(buf)
local root = vim.fn.fnamemodify(name ~= "" and name or vim.fn.getcwd(), ":p:h")

if vim.lsp.start then -- Neovim 0.8 and later: one client per root, reused across buffers
  vim.lsp.start({ name = "archdsl", cmd = cmd, root_dir = root })
else -- Neovim 0.7
  _G.archdsl_clients = _G.archdsl_clients or {}
  local id = _G.archdsl_clients[root]
  if id == nil or vim.lsp.get_client_by_id(id) == nil then
    id = vim.lsp.start_client({ name = "archdsl", cmd = cmd, root_dir = root })
    _G.archdsl_clients[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(buf, id)
  end
end
