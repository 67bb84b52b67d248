-- archdsl: `.arch` files are the `arch` filetype.
vim.cmd("autocmd BufRead,BufNewFile *.arch setfiletype arch")
